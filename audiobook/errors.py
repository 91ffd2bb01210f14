"""The project's own errors. Every stage raises these; only the CLI prints them."""

from __future__ import annotations


class AudiobookError(Exception):
    """A problem the user can fix. ``str(error)`` is one line: what and where, and what to do."""


class InputError(AudiobookError):
    """A story file or folder that cannot be used."""


class ConfigError(AudiobookError):
    """A malformed or invalid ``voices.toml``."""


class EngineError(AudiobookError):
    """The speech engine is missing, failed, or was asked for a voice it does not have."""


class AudioError(AudiobookError):
    """ffmpeg is missing or failed while encoding."""


class TagError(AudiobookError):
    """Tags or chapter markers could not be written or read."""


class CoverError(AudiobookError):
    """A cover image that is missing, unreadable or unsuitable."""


class PublishError(AudiobookError):
    """The feed, a transcript or a chapters file could not be written."""


class ServeError(AudiobookError):
    """The output folder cannot be served."""
