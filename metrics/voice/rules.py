"""The two rules of listening and acting, as SQL over a row of the feedback source (voice.feedback_source):
negative feedback is a case to follow up; praise is shared with the team. Both are that source's derived
columns in config.yaml, written once there (and used by the closed-loop metrics too)."""
from __future__ import annotations

from metrics.compute.engine import Engine


def negative(engine: Engine) -> str:
    """SQL over a feedback row: negative feedback, a case to follow up (config: the feedback source's `negative`)."""
    return f"({engine.config.voice.negative})"


def positive(engine: Engine) -> str:
    """SQL over a feedback row: praise (config: the feedback source's `positive`)."""
    return f"({engine.config.voice.positive})"
