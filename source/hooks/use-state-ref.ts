import {useCallback, useRef, useState} from 'react';

// State whose latest value is readable at once. Ink delivers a burst of keys
// (a paste, tmux send-keys, a fast typist) as separate events before React
// re-renders, so an input handler must not read state from its closure.
export function useStateRef<T>(initial: T | (() => T)): [T, (next: T | ((current: T) => T)) => void, {readonly current: T}] {
	const [value, setValue] = useState(initial);
	const ref = useRef(value);
	const set = useCallback((next: T | ((current: T) => T)) => {
		ref.current = typeof next === 'function' ? (next as (current: T) => T)(ref.current) : next;
		setValue(ref.current);
	}, []);
	return [value, set, ref];
}
