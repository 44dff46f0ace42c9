"""Infrastructure, kept apart from the teaching modules: atomic writes and the leftovers of interrupted ones
(``atomic``), safe checkpoints with content hashes (``checkpoint``), file hashes (``hashing``), checked
downloads (``download``) and command-line program names (``cli``). Nothing here is diffusion math."""
