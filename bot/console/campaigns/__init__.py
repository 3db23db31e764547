"""Campaigns in the console: the list, one campaign's pages, forms, slow tasks and uploads."""
