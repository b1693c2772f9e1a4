"""Regenerate podwhisperer.example.yaml: every option, its default, and its description.

Run: python scripts/gen_example_config.py > podwhisperer.example.yaml
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from podwhisperer.runtime.config import PipelineConfig

HEADER = """\
# podwhisperer configuration: every option with its default.
# Validate with `podwhisperer config validate FILE`; get the JSON Schema with `podwhisperer config schema`.
# The same file drives the local CLI (--config), the Pulumi stack (pipeline: ...) and the Lambda.
"""

LIST_EXAMPLES = {
    "speakers": """\
# speakers:                      # known people; the LLM step names diarized speakers from this list
#   - name: Eoin
#     description: Host, Irish accent, introduces the show
#   - name: Luciano
#     description: Co-host, Italian accent""",
    "replacement_rules": """\
# replacement_rules:             # applied in order, before the LLM step
#   - type: literal              # exact text; the replacement is used verbatim
#     search: Owen
#     replacement: Eoin
#     whole_word: true           # do not touch "Owens"
#     ignore_case: false
#   - type: regex                # Python regular expression; \\1 or \\g<name> refer to groups
#     search: 'E\\s*C\\s*2'
#     replacement: EC2
#     flags: [IGNORECASE]        # IGNORECASE, MULTILINE, DOTALL, VERBOSE, ASCII""",
    "llm_refinement": """\
# llm_refinement:                # Bedrock refinement; omit (null) to skip the step
#   model_id: eu.anthropic.claude-sonnet-4-20250514-v1:0   # required: model id, inference profile or ARN
#   region: null                 # null: from the profile prefix (eu. -> eu-west-1, apac. -> ap-northeast-1)
#   additional_context: "An AWS podcast by Eoin Shanaghy and Luciano Mammino"
#   identify_speakers: true
#   chunk_max_words: 2000        # words per request
#   chunk_overlap_segments: 2    # read-only context segments shown before each chunk
#   max_concurrency: 4
#   max_retries: 3
#   on_error: skip               # skip: keep the transcript unrefined; fail: fail the pipeline
#   model_settings: {max_tokens: 8192, temperature: 0.2, top_p: null, stop_sequences: [],
#                    additional_model_request_fields: {}}
#   suggestion_validation: {enabled: true, max_word_change_ratio: 0.4, max_normalized_edit_distance: 0.5,
#                           max_consecutive_changes: 3, min_words_for_ratio_check: 5,
#                           max_changed_words: 6, max_inserted_words: 1}""",
}


def render_section(name: str, model: BaseModel, indent: int = 0) -> list[str]:
    pad = "  " * indent
    lines = [f"{pad}{name}:"]
    for field_name, field in type(model).model_fields.items():
        value = getattr(model, field_name)
        comment = f"  # {field.description}" if field.description else ""
        if isinstance(value, BaseModel):
            if field.description:
                lines.append(f"{pad}  # {field.description}")
            lines += render_section(field_name, value, indent + 1)
        else:
            lines.append(f"{pad}  {field_name}: {dump(value)}{comment}")
    return lines


def dump(value: Any) -> str:
    return json.dumps(value)


def main() -> None:
    config = PipelineConfig()
    out = [HEADER]
    for name, field in PipelineConfig.model_fields.items():
        value = getattr(config, name)
        if field.description:
            out.append(f"# {field.description}")
        if isinstance(value, BaseModel):
            out += render_section(name, value)
        else:
            out.append(LIST_EXAMPLES[name])
            out.append(f"{name}: {dump(value)}")
        out.append("")
    print("\n".join(out).rstrip())


if __name__ == "__main__":
    main()
