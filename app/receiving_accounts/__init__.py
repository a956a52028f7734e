"""Official receiving accounts: the bank accounts a campaign collects money on."""
