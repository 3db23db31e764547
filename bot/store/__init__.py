"""Redis: the connection, the key map, atomic batches and every record the line keeps."""
