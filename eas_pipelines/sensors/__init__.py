"""Sensors: how queued work becomes runs and how stuck work moves on."""

from eas_pipelines.sensors.approvals import approval_resume_sensor
from eas_pipelines.sensors.failures import request_failure_sensor
from eas_pipelines.sensors.run_traces import run_trace_sensor
from eas_pipelines.sensors.standard_lane import standard_lane_sensor
from eas_pipelines.sensors.stranded import stranded_request_sensor

__all__ = [
    "approval_resume_sensor",
    "request_failure_sensor",
    "run_trace_sensor",
    "standard_lane_sensor",
    "stranded_request_sensor",
]
