"""wanmock: a faithful offline fake of EvoLink's Wan2.6 reference-video API."""

__version__ = "0.2.0"
