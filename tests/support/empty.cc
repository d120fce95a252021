// Keeps the support library non-empty when no other support source exists.
