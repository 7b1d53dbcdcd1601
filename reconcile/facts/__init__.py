"""Every read of Codat the application makes, apart from the client's own typed calls."""
