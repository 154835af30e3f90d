"""The optional language model: phrasing, its prompt and checks, embeddings and hints."""
