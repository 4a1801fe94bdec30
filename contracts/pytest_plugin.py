"""pytest fixtures for testing code that calls EvoLink's Wan2.6 API against wanmock."""
