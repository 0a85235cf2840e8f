"""OMEMO (XEP-0384): legacy OMEMO and OMEMO 2 on python-omemo, for one identity per link."""
