"""Finding things: embeddings, the FAISS index, chunking and ranked search."""
