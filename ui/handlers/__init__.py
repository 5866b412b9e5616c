"""One module of event handlers per tab: validate, call the backend, format (about 15 lines each)."""
