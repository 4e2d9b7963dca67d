"""Agents: hospitals (Mesa agents with strategy levers), patients (columns), the bureau."""
