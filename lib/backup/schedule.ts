import { Duration } from '../core/duration';
import { ValidationError } from '../core/validation-message';
import { checkOptions, checkProps, fail, is, orNothing, requireEnum, Schema } from '../core/runtime-checks';

/** A day of the week, as systemd writes it. */
export enum Weekday {
  /** Monday (`Mon`). */
  MONDAY = 'Mon',
  /** Tuesday (`Tue`). */
  TUESDAY = 'Tue',
  /** Wednesday (`Wed`). */
  WEDNESDAY = 'Wed',
  /** Thursday (`Thu`). */
  THURSDAY = 'Thu',
  /** Friday (`Fri`). */
  FRIDAY = 'Fri',
  /** Saturday (`Sat`). */
  SATURDAY = 'Sat',
  /** Sunday (`Sun`). */
  SUNDAY = 'Sun',
}

/** A time of day in UTC. */
export interface TimeOfDay {
  /** 0 to 23, UTC. */
  readonly hour: number;
  /**
   * 0 to 59.
   * @default 0
   */
  readonly minute?: number;
}

/** A time of day on one day of the week, in UTC. */
export interface WeeklyTime extends TimeOfDay {
  /** The day of the week, in UTC. */
  readonly day: Weekday;
}

const TIME_OF_DAY: Schema<TimeOfDay> = {
  hour: is.number('pass an hour from 0 to 23, such as { hour: 3 }', { integer: true }),
  minute: is.optional(is.number('pass a minute from 0 to 59, such as { hour: 3, minute: 15 }', { integer: true })),
};

/**
 * When a job runs: a systemd calendar event in UTC.
 *
 * Timers are `Persistent`, so a run missed while the machine was off happens right after it boots.
 */
export class Schedule {
  /** Every day at the given time (UTC). */
  public static daily(time: TimeOfDay): Schedule {
    time = checkProps<TimeOfDay>('Schedule.daily', time, TIME_OF_DAY, 'pass { hour: 3, minute: 0 }');
    const [h, m] = Schedule.clock('Schedule.daily', time);
    return new Schedule(`*-*-* ${h}:${m}:00 UTC`, Duration.days(1), `daily at ${h}:${m} UTC`);
  }

  /** Once a week on the given day and time (UTC). */
  public static weekly(time: WeeklyTime): Schedule {
    // What is checked is what is built from: a frozen snapshot, each field read once (a getter answers once).
    time = checkProps<WeeklyTime>('Schedule.weekly', time, {
      ...TIME_OF_DAY,
      day: (at, prop, value) => { requireEnum(at, prop, value, Weekday, 'Weekday'); },
    }, 'pass { day: Weekday.SUNDAY, hour: 4 }');
    const [h, m] = Schedule.clock('Schedule.weekly', time);
    return new Schedule(`${time.day} *-*-* ${h}:${m}:00 UTC`, Duration.days(7), `weekly on ${time.day} at ${h}:${m} UTC`);
  }

  /** Every `hours` hours (a divisor of 24), starting at midnight UTC plus `minute`. */
  public static everyHours(hours: number, options: {
    /**
     * The minute past each start hour, 0-59.
     * @default 0
     */
    readonly minute?: number;
  } = {}): Schedule {
    is.number('use 1, 2, 3, 4, 6, 8, 12 or 24', { integer: true })('Schedule.everyHours', 'hours', hours);
    options = checkOptions<{ minute?: number }>('Schedule.everyHours', 'options', options, { minute: TIME_OF_DAY.minute }, orNothing('pass { minute: 15 }')) ?? {};
    if (!Number.isInteger(hours) || hours < 1 || 24 % hours !== 0) {
      throw new ValidationError(`Schedule.everyHours: ${hours} is not allowed: the interval must divide a day. Fix: use 1, 2, 3, 4, 6, 8, 12 or 24.`);
    }
    // Its own message: the time of day's would show an hour nobody gave ("0:75") and advise { hour }, which this refuses.
    if (options.minute !== undefined && (options.minute < 0 || options.minute > 59)) {
      fail('Schedule.everyHours', 'options.minute', options.minute, 'the minute past each start hour is 0-59', 'pass { minute: 15 } or nothing');
    }
    const [, m] = Schedule.clock('Schedule.everyHours', { hour: 0, minute: options.minute });
    const hoursList = Array.from({ length: 24 / hours }, (_, i) => String(i * hours).padStart(2, '0')).join(',');
    return new Schedule(`*-*-* ${hoursList}:${m}:00 UTC`, Duration.hours(hours), `every ${hours} hours at minute ${m} UTC`);
  }

  /**
   * The hour and minute as systemd writes them. Each refused by its own name: `Schedule: 24:0` named neither the
   * prop nor the method, and hour 24 (midnight, to many) is `{ hour: 0 }`.
   */
  private static clock(at: string, time: TimeOfDay): [string, string] {
    const minute = time.minute ?? 0;
    if (time.hour < 0 || time.hour > 23) {
      fail(at, 'hour', time.hour, 'an hour is 0 to 23, in UTC', time.hour === 24 ? 'write midnight as { hour: 0 }' : 'pass an hour from 0 to 23, such as { hour: 3 }');
    }
    if (minute < 0 || minute > 59) fail(at, 'minute', minute, 'a minute is 0 to 59', 'pass a minute from 0 to 59, such as { hour: 3, minute: 15 }');
    return [String(time.hour).padStart(2, '0'), String(minute).padStart(2, '0')];
  }

  private constructor(
    /** The systemd `OnCalendar=` expression. */
    public readonly onCalendar: string,
    /** The longest gap between two runs. */
    public readonly interval: Duration,
    private readonly text: string,
  ) {}

  /** The schedule in words, such as `daily at 03:00 UTC`. */
  public toString(): string {
    return this.text;
  }
}
