"""The web service: ``talkingface serve`` (a page and an HTTP API over the same pipelines)."""
