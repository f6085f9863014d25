"""Possible duplicate customers: kept for a person to merge or dismiss, and every merge undoable."""
