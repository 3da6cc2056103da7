"""Chat-model backends (langchain-core) and the client every planner calls them through."""
