"""Podcast publishing outputs: Podcasting 2.0 transcript JSON and HTML, the interactive transcript page, chapters,
show notes, the RSS item snippet, and the per-episode context that feeds them."""
