"""The chat UI pieces that app.py assembles: event-to-message rendering."""
