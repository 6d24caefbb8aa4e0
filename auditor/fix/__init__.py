"""Fix mode: a plan first (one action per drift finding), then live AWS put back to what the state
says, under Terraform's own lock, journalled, verified by re-observing every touched resource."""
