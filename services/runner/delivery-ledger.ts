// Which messages a connector has already delivered, so a record seen again (redelivery after a
// crash or rebalance, a duplicate produce, a replay of something already delivered) is not
// handed to the destination twice.
import Database from 'better-sqlite3';
import { openSqlite } from '../platform/sqlite-file.js';

export class DeliveryLedger {
  private readonly db: Database.Database;
  private readonly has: Database.Statement;
  private readonly add: Database.Statement;
  private readonly remove: Database.Statement;
  private readonly announce: Database.Statement;

  constructor(file: string) {
    this.db = openSqlite(file);
    // `announced` = the `delivered` event is on Kafka. A delivery whose event could not be
    // published is found again on redelivery and announced then, without delivering twice.
    this.db.exec('CREATE TABLE IF NOT EXISTS delivered (message_id TEXT PRIMARY KEY, delivered_at TEXT NOT NULL, announced INTEGER NOT NULL DEFAULT 0)');
    this.has = this.db.prepare('SELECT announced FROM delivered WHERE message_id = ?');
    this.add = this.db.prepare('INSERT OR IGNORE INTO delivered (message_id, delivered_at) VALUES (?, ?)');
    this.announce = this.db.prepare('UPDATE delivered SET announced = 1 WHERE message_id = ?');
    this.remove = this.db.prepare('DELETE FROM delivered WHERE message_id = ?');
  }

  /** 'no', or 'yes' with whether its `delivered` event was published. */
  lookup(messageId: string): 'no' | 'announced' | 'unannounced' {
    const row = this.has.get(messageId) as { announced: number } | undefined;
    return !row ? 'no' : row.announced ? 'announced' : 'unannounced';
  }

  /** One transaction (one commit) for a whole chunk of deliveries. */
  markDeliveredMany(ids: string[]): void {
    const at = new Date().toISOString();
    this.db.transaction(() => {
      for (const id of ids) this.add.run(id, at);
    })();
  }

  markAnnouncedMany(ids: string[]): void {
    this.db.transaction(() => {
      for (const id of ids) this.announce.run(id);
    })();
  }

  /** An operator's explicit redelivery (replay) forgets the earlier delivery. */
  forget(messageId: string): void {
    this.remove.run(messageId);
  }

  close(): void {
    this.db.close();
  }
}
