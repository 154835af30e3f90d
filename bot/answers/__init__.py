"""Answering from the index: hybrid retrieval, the answer gate, the clause chooser,
extractive answers, routing to a team, and what an answer offers."""
