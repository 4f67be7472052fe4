const widget = new VIZOCHOKWidget({
apiKey: 'pk_your_key',
storeId: 'your-store',
onCartChanged: (cart) => { /* ... */ },
onProductClick: (product) => { /* ... */ },
onSessionComplete: (summary) => { /* ... */ },
onError: (error) => { /* ... */ },
onConnect: () => { /* ... */ },
onDisconnect: () => { /* ... */ },
});
