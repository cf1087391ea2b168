/** A sensor reading: the value of `sensor-readings` (schemas/sensor-readings.avsc); times in ms since the epoch. */
export interface Reading {
  device_id: string;
  sensor_type: string;
  value: number;
  unit: string;
  time: number;
  ingest_time: number;
  /** Microseconds within the millisecond of `time`, 0-999 (absent: 0). */
  time_us?: number;
  /** Where `time` came from: the payload, or the connector's clock (absent: device). */
  time_source?: 'device' | 'connector';
}
