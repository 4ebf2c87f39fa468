#!/bin/bash
# Harness self-test: a failing script; the run must fail because of it.
exit 3
