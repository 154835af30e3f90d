"""Approved answers: reviewers' replies kept, matched to questions, served again."""
