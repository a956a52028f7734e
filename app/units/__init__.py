"""Units: the Front's organisation tree (province → district → commune) that owns campaigns."""
