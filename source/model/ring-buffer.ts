// Fixed-capacity line buffer: consoles and install logs can grow without
// bound, what is kept in memory cannot.
export class RingBuffer<T = string> {
	#items: Array<T | undefined>;
	#start = 0;
	#size = 0;
	dropped = 0;

	constructor(readonly capacity: number) {
		this.#items = new Array<T | undefined>(capacity);
	}

	push(item: T): void {
		const end = (this.#start + this.#size) % this.capacity;
		this.#items[end] = item;
		if (this.#size < this.capacity) this.#size++;
		else {
			this.#start = (this.#start + 1) % this.capacity;
			this.dropped++;
		}
	}

	get size(): number {
		return this.#size;
	}

	// The newest `count` items, oldest first.
	tail(count: number): T[] {
		const take = Math.min(count, this.#size);
		const result: T[] = [];
		for (let i = this.#size - take; i < this.#size; i++) result.push(this.#items[(this.#start + i) % this.capacity]!);
		return result;
	}

	// Kept items from position `from` up to (not including) `to`, oldest first;
	// position 0 is the oldest item still kept.
	slice(from: number, to: number): T[] {
		const start = Math.max(0, from);
		const end = Math.min(this.#size, to);
		const result: T[] = [];
		for (let i = start; i < end; i++) result.push(this.#items[(this.#start + i) % this.capacity]!);
		return result;
	}

	// Everything ever pushed, kept or dropped: the number of the next item.
	get total(): number {
		return this.#size + this.dropped;
	}

	toArray(): T[] {
		return this.tail(this.#size);
	}

	last(): T | undefined {
		return this.#size === 0 ? undefined : this.#items[(this.#start + this.#size - 1) % this.capacity];
	}
}
