"""audiobook: turn stories into multi-voice, chaptered, tagged MP3 audiobooks."""

__version__ = "0.1.0"
