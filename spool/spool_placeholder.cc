// Keeps the spool library non-empty while its sources are being written.
