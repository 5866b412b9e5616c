"""Bad input to every endpoint of the real app, one module per endpoint or tab (see conftest.py)."""
