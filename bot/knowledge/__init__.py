"""The knowledge directory as the engine sees it: loading documents, cutting them into
clauses, their versions and changes, hints, the glossary, embeddings and the vector store."""
