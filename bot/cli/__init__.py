"""The `supportline` command and its groups (campaign, nurse, retention, feed)."""
