"""Screens pushed over the main one: help, first-run account form."""
