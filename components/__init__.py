"""The Pulumi component package: ``PodwhispererPipeline`` and its typed args."""
