#!/bin/sh
# What mod_auth_openidc passed on: the user and the claims it accepted.
printf 'Content-Type: text/plain\n\n'
env | grep -E '^(OIDC_CLAIM_|REMOTE_USER=)' | sort
