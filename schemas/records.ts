// The records of schemas/*.avsc as TypeScript types, for every layer: the connector writes readings,
// sinks store and archive them, topologies read them and write alerts and hourly statistics.
// Times are ms since the epoch.

/** A sensor reading: the value of `sensor-readings` (sensor-readings.avsc). */
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

/** An alert as it goes to the `alerts` topic (alerts.avsc) and table. */
export interface Alert {
  id: string;
  device_id: string;
  sensor_type: string;
  rule: string;
  severity: string;
  message: string;
  value: number | null;
  opened_at: number;
  cleared_at: number | null;
}

/** One sensor's statistics over one UTC hour [bucket, bucket_end), as `sensor-stats-hourly` carries them (sensor-stats-hourly.avsc). */
export interface HourlyStats {
  device_id: string;
  sensor_type: string;
  bucket: number;
  bucket_end: number;
  count: number;
  sum: number;
  min: number;
  max: number;
  avg: number;
}
