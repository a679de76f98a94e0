"""Content: the items of the drop folder, loaded and validated."""
