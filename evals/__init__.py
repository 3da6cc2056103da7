"""Scripted multi-step reasoning evaluations: datasets (synthetic, public adapters), metrics,
a resumable runner that records each question's trace, and reports."""
