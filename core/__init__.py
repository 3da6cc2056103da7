"""The ground floor: artifacts, events, errors, config, model resolution and the model
manager, images, the tool-call cache, the result record and the LLM clients. It imports
nothing above it (tools, planners, the Agent, evaluations, the UI)."""
