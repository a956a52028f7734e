"""The auditor's statement of a campaign: pledged, received, allocated, delivered, available."""
