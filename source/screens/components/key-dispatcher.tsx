import {useInput, useStdin, type Key} from 'ink';
import {createContext, useContext, useEffect, useRef, useState, type ReactNode} from 'react';
import {splitKeys} from './burst-keys.js';

// Who gets a key first: an open overlay, then a text field being edited (or a
// console being typed into), then the screen, then the keys every screen shares.
export const KEY_PRIORITIES = ['overlay', 'text', 'screen', 'global'] as const;
export type KeyPriority = (typeof KEY_PRIORITIES)[number];

// Returns true when it used the key; the key then goes no further.
export type KeyHandler = (input: string, key: Key) => boolean;

// A function is read at the moment a key arrives: the keys of one burst are
// handled before React renders again, so a flag from the last render is stale.
export type KeyActive = boolean | (() => boolean);

type Subscription = {priority: KeyPriority; order: number; handler: {current: KeyHandler}; active: {current: KeyActive}};

type Dispatcher = {
	subscribe: (subscription: Subscription) => () => void;
	// True while a text-priority handler is active: the footers say so.
	textEntry: boolean;
};

const DispatcherContext = createContext<Dispatcher | undefined>(undefined);

const isOn = (active: KeyActive) => (typeof active === 'function' ? active() : active);

function useDispatcher(): Dispatcher {
	const subscriptions = useRef<Subscription[]>([]);
	const [textEntry, setTextEntry] = useState(false);
	const [dispatcher] = useState(() => {
		const updateTextEntry = () => setTextEntry(subscriptions.current.some(s => s.priority === 'text' && isOn(s.active.current)));
		return {
			updateTextEntry,
			dispatch(input: string, key: Key) {
				// Later subscribers (the screen that mounted last) come first within a priority.
				const ordered = [...subscriptions.current].sort((a, b) => KEY_PRIORITIES.indexOf(a.priority) - KEY_PRIORITIES.indexOf(b.priority) || b.order - a.order);
				for (const subscription of ordered) {
					if (!subscriptions.current.includes(subscription) || !isOn(subscription.active.current)) continue;
					if (subscription.handler.current(input, key)) return;
				}
			},
			subscribe(subscription: Subscription) {
				subscriptions.current = [...subscriptions.current, subscription];
				return () => {
					subscriptions.current = subscriptions.current.filter(s => s !== subscription);
					updateTextEntry();
				};
			},
		};
	});
	const {isRawModeSupported} = useStdin();
	// The one input listener of this Ink root. A burst of keys (a paste, tmux
	// send-keys, a fast typist) arrives as one event and is handed on one key at a time.
	useInput(
		(input, key) => {
			for (const [char, single] of splitKeys(input, key)) dispatcher.dispatch(char, single);
			dispatcher.updateTextEntry();
		},
		// useInput throws without a raw-mode stdin (a pipe, CI).
		{isActive: isRawModeSupported},
	);
	return {subscribe: dispatcher.subscribe, textEntry};
}

function RootDispatcher({children}: {children: ReactNode}) {
	const dispatcher = useDispatcher();
	return <DispatcherContext.Provider value={dispatcher}>{children}</DispatcherContext.Provider>;
}

// Gives its children the key dispatcher. Inside another one (the run mounted by
// the wizard) it adds nothing: one Ink root has one listener.
export function KeyDispatcher({children}: {children: ReactNode}) {
	const outer = useContext(DispatcherContext);
	return outer ? <>{children}</> : <RootDispatcher>{children}</RootDispatcher>;
}

let nextOrder = 0;

// Subscribes a component to the keys of the dispatcher above it.
export function useKeys(handler: KeyHandler, options: {priority: KeyPriority; active: KeyActive}): void {
	const dispatcher = useContext(DispatcherContext);
	if (!dispatcher) throw new Error('useKeys needs a <KeyDispatcher> above it');
	const handlerRef = useRef(handler);
	const activeRef = useRef(options.active);
	handlerRef.current = handler;
	activeRef.current = options.active;
	const {subscribe} = dispatcher;
	useEffect(() => subscribe({priority: options.priority, order: nextOrder++, handler: handlerRef, active: activeRef}), [subscribe, options.priority]);
}

// Whether a text field is being edited or a console typed into.
export function useTextEntry(): boolean {
	return useContext(DispatcherContext)?.textEntry ?? false;
}
