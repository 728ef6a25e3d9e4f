import {createContext, useContext} from 'react';

// Lets a screen tell the app that a text field is being edited, so the global
// keys (`q`, `?`) are typed into the field instead of quitting or opening help.
export type KeyScope = {setEditing: (editing: boolean) => void};

export const KeyScopeContext = createContext<KeyScope>({setEditing: () => undefined});

export function useKeyScope(): KeyScope {
	return useContext(KeyScopeContext);
}
