"""Tests of the live inventory collectors."""
