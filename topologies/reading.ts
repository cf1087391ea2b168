/** A sensor reading: the value of `sensor-readings` (schemas/sensor-readings.avsc); times in ms since the epoch. */
export interface Reading {
  device_id: string;
  sensor_type: string;
  value: number;
  unit: string;
  time: number;
  ingest_time: number;
}
