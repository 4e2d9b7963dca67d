"""drgsim package."""
