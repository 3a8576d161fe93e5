"""A TEST DOUBLE of the Plesk `plesk` command (not Plesk): see ../README.md."""
