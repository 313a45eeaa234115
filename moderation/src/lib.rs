//! Roles, the review queue and verdict rules (DESIGN.md §2, §5). Arrives with the workflow issue.
