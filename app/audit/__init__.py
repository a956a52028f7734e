"""What auditors use to prove nobody edited history."""
