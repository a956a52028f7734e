"""Places money and goods go to: province → district → commune → village, or custom."""
