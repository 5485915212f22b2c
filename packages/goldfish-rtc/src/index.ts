/** @backplane/goldfish-rtc — the Android goldfish real-time clock, with alarm interrupt, as on QEMU virt. */
export {
  ALARM_HIGH,
  ALARM_LOW,
  ALARM_STATUS,
  CLEAR_ALARM,
  CLEAR_INTERRUPT,
  GOLDFISH_RTC_SIZE,
  GoldfishRtc,
  type GoldfishRtcEvents,
  type GoldfishRtcOptions,
  type GoldfishRtcState,
  IRQ_ENABLED,
  TIME_HIGH,
  TIME_LOW,
} from "./goldfish-rtc.js";
