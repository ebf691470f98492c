"""Tests of the service over HTTP: the real server on a loopback port."""
